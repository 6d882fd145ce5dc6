import type { AnchorHTMLAttributes, TargetedMouseEvent } from 'preact'
import { navigate } from '../router.ts'

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }

/** Link is an anchor that moves within the shop without a reload; modified clicks open as usual. */
export function Link(props: LinkProps) {
  const onClick = (event: TargetedMouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return
    }
    event.preventDefault()
    navigate(props.href)
  }
  return <a {...props} onClick={onClick} />
}
