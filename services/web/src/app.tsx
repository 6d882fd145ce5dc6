import type { ComponentChildren } from 'preact'
import { useEffect, useErrorBoundary } from 'preact/hooks'
import { cartCount } from './cart/cart.ts'
import { Link } from './components/link.tsx'
import { Loading } from './components/problem-alert.tsx'
import { AdminProductsPage } from './pages/admin-products-page.tsx'
import { CartPage } from './pages/cart-page.tsx'
import { CataloguePage } from './pages/catalogue-page.tsx'
import { CheckoutPage } from './pages/checkout-page.tsx'
import { NotFoundPage } from './pages/not-found-page.tsx'
import { OrderPage } from './pages/order-page.tsx'
import { OrdersPage } from './pages/orders-page.tsx'
import { ProductFormPage } from './pages/product-form-page.tsx'
import { ProductPage } from './pages/product-page.tsx'
import { SignInPage } from './pages/sign-in-page.tsx'
import { SignUpPage } from './pages/sign-up-page.tsx'
import { matchPath, navigate, place } from './router.ts'
import { session, signOut } from './session/session.ts'

type Access = 'anyone' | 'signed-in' | 'admin'

interface Route {
  pattern: string
  title: string
  access: Access
  page: (params: Record<string, string>) => ComponentChildren
}

/** routes are the storefront's pages; the gateway answers index.html for each of these paths. */
const routes: Route[] = [
  { pattern: '/', title: 'Products', access: 'anyone', page: () => <CataloguePage /> },
  {
    pattern: '/products/:id',
    title: 'Product',
    access: 'anyone',
    page: ({ id = '' }) => <ProductPage id={id} />,
  },
  { pattern: '/cart', title: 'Your cart', access: 'anyone', page: () => <CartPage /> },
  { pattern: '/checkout', title: 'Checkout', access: 'signed-in', page: () => <CheckoutPage /> },
  { pattern: '/sign-in', title: 'Sign in', access: 'anyone', page: () => <SignInPage /> },
  { pattern: '/sign-up', title: 'Create an account', access: 'anyone', page: () => <SignUpPage /> },
  { pattern: '/orders', title: 'Your orders', access: 'signed-in', page: () => <OrdersPage /> },
  {
    pattern: '/orders/:id',
    title: 'Order',
    access: 'signed-in',
    page: ({ id = '' }) => <OrderPage id={id} />,
  },
  {
    pattern: '/admin/products',
    title: 'Manage products',
    access: 'admin',
    page: () => <AdminProductsPage />,
  },
  {
    pattern: '/admin/products/new',
    title: 'New product',
    access: 'admin',
    page: () => <ProductFormPage />,
  },
  {
    pattern: '/admin/products/:id',
    title: 'Edit product',
    access: 'admin',
    page: ({ id = '' }) => <ProductFormPage id={id} />,
  },
]

function resolve(path: string): { route: Route | undefined; params: Record<string, string> } {
  for (const route of routes) {
    const params = matchPath(route.pattern, path)
    if (params) return { route, params }
  }
  return { route: undefined, params: {} }
}

/** App is the page frame (header, main, footer) around the page of the current address. */
export function App() {
  const { path } = place.value
  const { route, params } = resolve(path)
  const current = session.value

  // A page that needs a session sends an anonymous shopper to sign in, and back afterwards.
  const needsSignIn =
    route !== undefined && route.access !== 'anyone' && current.status === 'anonymous'
  useEffect(() => {
    if (needsSignIn) {
      const back = path + (place.value.query.size > 0 ? `?${place.value.query}` : '')
      navigate(`/sign-in?next=${encodeURIComponent(back)}`, { replace: true })
    }
  }, [needsSignIn, path])

  // After each move, the new page's heading takes the focus, so a screen reader announces it.
  useEffect(() => {
    document.title = `${route?.title ?? 'Not found'} · microshop`
    window.scrollTo(0, 0)
    const heading = document.querySelector<HTMLElement>('main h1')
    heading?.focus({ preventScroll: true })
  }, [path, route])

  let content: ComponentChildren
  if (route === undefined) content = <NotFoundPage />
  else if (route.access !== 'anyone' && current.status !== 'signed-in') {
    content = <Loading what="your session" />
  } else if (
    route.access === 'admin' &&
    current.status === 'signed-in' &&
    current.user.role !== 'admin'
  ) {
    content = (
      <section>
        <h1 tabIndex={-1}>Admins only</h1>
        <p>This page is for the shop's admins. You are signed in as a customer.</p>
      </section>
    )
  } else content = route.page(params)

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <PageBoundary key={path}>{content}</PageBoundary>
      </main>
      <footer class="footer">
        <p>
          microshop is a demo: no real cards, no real goods. The <a href="/docs">API docs</a> show
          what the shop is built on.
        </p>
      </footer>
    </>
  )
}

/**
 * PageBoundary keeps a page that failed to render from leaving a blank screen: the frame stays,
 * with what happened in words and a way out. A new address starts a fresh boundary.
 */
function PageBoundary({ children }: { children: ComponentChildren }) {
  const [error, reset] = useErrorBoundary() as [unknown, () => void]
  if (error !== undefined) {
    return (
      <section>
        <h1 tabIndex={-1}>Something went wrong</h1>
        <div class="alert" role="alert">
          <p>This page could not be shown. Please try again, or reload the shop.</p>
          <button type="button" class="button secondary" onClick={reset}>
            Try again
          </button>
        </div>
      </section>
    )
  }
  return <>{children}</>
}

function Header() {
  const current = session.value
  const count = cartCount.value
  return (
    <header class="header">
      <Link class="brand" href="/">
        microshop
      </Link>
      <nav aria-label="Main">
        <ul>
          <li>
            <Link href="/">Products</Link>
          </li>
          {current.status === 'signed-in' && (
            <li>
              <Link href="/orders">Orders</Link>
            </li>
          )}
          {current.status === 'signed-in' && current.user.role === 'admin' && (
            <li>
              <Link href="/admin/products">Manage</Link>
            </li>
          )}
          <li>
            <Link href="/cart">
              Cart <span class="count">{count}</span>
              <span class="visually-hidden">{count === 1 ? ' item' : ' items'}</span>
            </Link>
          </li>
          {current.status === 'signed-in' ? (
            <li class="account">
              <span class="who">{current.user.name}</span>
              <button
                type="button"
                class="link-button"
                onClick={() => void signOut().then(() => navigate('/'))}
              >
                Sign out
              </button>
            </li>
          ) : (
            current.status === 'anonymous' && (
              <>
                <li>
                  <Link href="/sign-in">Sign in</Link>
                </li>
                <li>
                  <Link href="/sign-up">Sign up</Link>
                </li>
              </>
            )
          )}
        </ul>
      </nav>
    </header>
  )
}
