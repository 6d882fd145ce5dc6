import { useEffect, useState } from 'preact/hooks'
import { api, data } from '../api/client.ts'
import { ApiError, fieldErrorsOf } from '../api/problem.ts'
import type { NewProduct, Product } from '../api/resources.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { TextField } from '../components/text-field.tsx'
import { useResource } from '../components/use-resource.ts'
import { decimalString, parseMoney } from '../money.ts'
import { navigate } from '../router.ts'
import { NotFoundPage } from './not-found-page.tsx'

const CURRENCY = 'USD'

interface Draft {
  sku: string
  name: string
  description: string
  price: string
  stock: string
}

const emptyDraft: Draft = { sku: '', name: '', description: '', price: '', stock: '0' }

function draftOf(product: Product): Draft {
  return {
    sku: product.sku,
    name: product.name,
    description: product.description,
    price: decimalString(product.price),
    stock: String(product.stock.available),
  }
}

/**
 * ProductFormPage creates a product (no id) or edits one: the API checks every field, and its
 * field errors show beside the fields. An edit sends only the fields that changed.
 */
export function ProductFormPage({ id }: { id?: string }) {
  const [product, , replaceProduct] = useResource<Product | undefined>(
    async (signal) =>
      id === undefined
        ? undefined
        : data(api.GET('/api/products/{id}', { params: { path: { id } }, signal })),
    [id],
  )
  const [draft, setDraft] = useState<Draft>(emptyDraft)
  const [saved, setSaved] = useState<Product>()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({})

  const original = product.state === 'ready' ? product.value : undefined
  useEffect(() => {
    if (original) setDraft(draftOf(original))
  }, [original])

  if (product.state === 'loading') return <Loading what="the product" />
  if (product.state === 'failed') {
    if (product.error instanceof ApiError && [400, 404].includes(product.error.status)) {
      return <NotFoundPage what="product" />
    }
    return <ProblemAlert error={product.error} />
  }

  const fields = { ...fieldErrorsOf(error), ...localErrors }
  if (error instanceof ApiError && error.status === 409) {
    const detail = error.problem?.detail ?? ''
    if (/sku/i.test(detail)) fields.sku = 'Another product has this SKU.'
    else if (/stock/i.test(detail)) fields.stock = detail
  }
  const set = (key: keyof Draft) => (value: string) => setDraft({ ...draft, [key]: value })

  const submit = async (event: Event) => {
    event.preventDefault()
    setError(undefined)
    setSaved(undefined)
    const price = parseMoney(draft.price, CURRENCY)
    const stock = /^-?\d+$/.test(draft.stock.trim()) ? Number(draft.stock) : undefined
    const problems: Record<string, string> = {}
    if (price === undefined) problems.price = 'Enter a price like 18.99.'
    if (stock === undefined) problems.stock = 'Enter a whole number.'
    setLocalErrors(problems)
    if (price === undefined || stock === undefined) return
    const body: NewProduct = {
      sku: draft.sku.trim(),
      name: draft.name.trim(),
      description: draft.description,
      price: { amount: price.amount, currency: CURRENCY },
      stock,
    }
    setBusy(true)
    try {
      if (original === undefined) {
        const created = await data(api.POST('/api/products', { body }))
        navigate(`/admin/products/${created.id}`, { replace: true })
        setSaved(created)
      } else {
        const changes: Partial<NewProduct> = {}
        if (body.sku !== original.sku) changes.sku = body.sku
        if (body.name !== original.name) changes.name = body.name
        if (draft.description !== original.description) changes.description = draft.description
        if (body.price.amount !== original.price.amount) changes.price = body.price
        if (body.stock !== original.stock.available) changes.stock = body.stock
        if (Object.keys(changes).length === 0) {
          setSaved(original)
          return
        }
        const updated = await data(
          api.PATCH('/api/products/{id}', { params: { path: { id: original.id } }, body: changes }),
        )
        replaceProduct(updated)
        setSaved(updated)
      }
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  const hasFieldErrors = Object.keys(fields).length > 0
  return (
    <section class="narrow">
      <h1 tabIndex={-1}>{original ? `Edit ${original.name}` : 'New product'}</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <TextField
          id="sku"
          label="SKU"
          value={draft.sku}
          onInput={set('sku')}
          error={fields.sku}
          hint="Letters, digits, dots, dashes; unique."
        />
        <TextField
          id="name"
          label="Name"
          value={draft.name}
          onInput={set('name')}
          error={fields.name}
        />
        <TextField
          id="description"
          label="Description"
          multiline
          value={draft.description}
          onInput={set('description')}
          error={fields.description}
        />
        <TextField
          id="price"
          label="Price (USD)"
          inputMode="decimal"
          value={draft.price}
          onInput={set('price')}
          error={fields.price}
          hint="For example 18.99."
        />
        <TextField
          id="stock"
          label="Stock on hand"
          type="number"
          inputMode="numeric"
          value={draft.stock}
          onInput={set('stock')}
          error={fields.stock}
          hint={
            original
              ? `${original.stock.available} available now; units held for pending orders come on top.`
              : 'Units you have to sell.'
          }
        />
        {hasFieldErrors ? (
          <p class="alert" role="alert">
            Please correct the fields marked above.
          </p>
        ) : (
          error !== undefined && <ProblemAlert error={error} />
        )}
        {saved && (
          <p class="success" role="status">
            Saved.
          </p>
        )}
        <div class="actions">
          <Link href="/admin/products">Back to the products</Link>
          <button class="button primary" type="submit" disabled={busy}>
            {busy ? 'Saving…' : original ? 'Save changes' : 'Create product'}
          </button>
        </div>
      </form>
    </section>
  )
}
