import type { TargetedEvent } from 'preact'

interface TextFieldProps {
  id: string
  label: string
  value: string
  onInput: (value: string) => void
  error?: string | undefined
  hint?: string
  type?: 'text' | 'email' | 'number'
  /** password hides what is typed. */
  password?: boolean
  multiline?: boolean
  autoComplete?: string
  inputMode?: 'decimal' | 'numeric' | 'text' | 'email'
  required?: boolean
  min?: number
  max?: number
}

/**
 * TextField is a labelled input with its hint and its error beside it: the error is tied to the
 * input (aria-describedby, aria-invalid), so a screen reader reads it with the field.
 */
export function TextField(props: TextFieldProps) {
  const hintId = props.hint ? `${props.id}-hint` : undefined
  const errorId = props.error ? `${props.id}-error` : undefined
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined
  const common = {
    id: props.id,
    name: props.id,
    value: props.value,
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': describedBy,
    required: props.required,
    onInput: (event: TargetedEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      props.onInput(event.currentTarget.value),
  }
  return (
    <div class={`field${props.error ? ' has-error' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={4} />
      ) : props.password ? (
        <input {...common} type="password" autoComplete={props.autoComplete} />
      ) : props.type === 'number' ? (
        <input
          {...common}
          type="number"
          inputMode={props.inputMode}
          min={props.min}
          max={props.max}
        />
      ) : props.type === 'email' ? (
        <input {...common} type="email" autoComplete={props.autoComplete} />
      ) : (
        <input
          {...common}
          type="text"
          autoComplete={props.autoComplete}
          inputMode={props.inputMode}
        />
      )}
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      )}
    </div>
  )
}
