import { Link } from '../components/link.tsx'

/** NotFoundPage is the answer for an address the shop has nothing at, or something not yours. */
export function NotFoundPage({ what = 'page' }: { what?: string }) {
  return (
    <section>
      <h1 tabIndex={-1}>Not found</h1>
      <p>We could not find this {what}. It may have been removed, or the address may be wrong.</p>
      <p>
        <Link href="/">Back to the products</Link>
      </p>
    </section>
  )
}
