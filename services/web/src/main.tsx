import { render } from 'preact'
import { App } from './app.tsx'
import { restoreSession } from './session/session.ts'
import './styles.css'

const root = document.getElementById('app')
if (root) {
  render(<App />, root)
  void restoreSession()
}
