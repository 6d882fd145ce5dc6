import AjvCompiler from '@fastify/ajv-compiler'
import type { FastifyServerOptions } from 'fastify'
import { unstorableValues } from '../text-input.ts'

type BuildValidator = NonNullable<
  NonNullable<
    NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
  >['buildValidator']
>
type ValidatorCompiler = ReturnType<BuildValidator>
type AjvCompilerOptions = Extract<
  NonNullable<Parameters<ReturnType<typeof AjvCompiler>>[1]>,
  { mode?: never }
>
type ValidateFunction = ReturnType<ValidatorCompiler>

// UUID is the only spelling of an id the shop takes: ajv-formats' `uuid` also takes
// `urn:uuid:...`, which Postgres' uuid type does not.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * requestValidators builds the validators of every route from its TypeBox schemas, so that what
 * passes is exactly what the database can store:
 * - bodies are JSON and keep their types: `"quantity": true` or `[5]` is a 400, not 1 or 5.
 *   Query strings, path parameters and headers arrive as text, so their values are converted to
 *   the schema's type (`?limit=5` is the integer 5);
 * - `format: "uuid"` is the canonical form only;
 * - every string anywhere in a validated part, and every member name, is storable text
 *   (no NUL, no U+FEFF, no unpaired surrogate: see isStorableText), and every number is finite,
 *   whatever its schema says (see unstorableValues).
 * Each validator is compiled by its first request, not at start: Ajv generates and compiles code
 * for each route's parts, and a service's admin and rarer routes may never be called.
 */
export function requestValidators(): BuildValidator {
  const build = AjvCompiler()
  return (externalSchemas, given) => {
    const options: AjvCompilerOptions = given?.mode === 'JTD' ? {} : (given ?? {})
    const withCoercion = (coerceTypes: false | 'array') =>
      build(externalSchemas, {
        ...(options.plugins ? { plugins: options.plugins } : {}),
        // validateSchema: false: Ajv does not check each schema against the JSON Schema
        // meta-schema first, which compiled the meta-schema in both instances at every start
        // (~70 ms of a service's ~0.95 s of start-up CPU). The schemas are TypeBox's, Ajv's strict
        // mode still refuses unknown keywords, and every route's schema is checked in CI in the
        // OpenAPI documents, which Redocly and Spectral lint (tests/contract).
        customOptions: { ...options.customOptions, coerceTypes, validateSchema: false },
        onCreate: (ajv) => {
          options.onCreate?.(ajv)
          ajv.addFormat('uuid', UUID)
        },
      })
    const forBodies = withCoercion(false)
    const forText = withCoercion('array')
    return (route) =>
      storableOnFirstUse(() => (route.httpPart === 'body' ? forBodies : forText)(route))
  }
}

interface ValidationError {
  instancePath: string
  schemaPath: string
  keyword: string
  params: Record<string, unknown>
  message: string
}

type Validate = ((data: unknown, context?: unknown) => boolean) & {
  errors?: unknown
  schemaEnv?: unknown
}

// storableOnFirstUse compiles a validator on its first call and adds the storable-values check.
function storableOnFirstUse(compile: () => ValidateFunction): ValidateFunction {
  let validate: Validate | undefined
  const checked: Validate = (data, context) => {
    validate ??= compile() as unknown as Validate
    if (!validate(data, context)) {
      checked.errors = validate.errors
      return false
    }
    const errors: ValidationError[] = unstorableValues(data).map(({ pointer, rule }) => ({
      instancePath: pointer,
      schemaPath: '#/storable',
      keyword: 'storable',
      params: {},
      message: rule,
    }))
    checked.errors = errors.length > 0 ? errors : null
    return errors.length === 0
  }
  // schemaEnv: Fastify hands a root value's parent to validators that have one, so that Ajv's
  // defaults and conversions can replace the root value itself. Every validator Ajv compiles has
  // one, and Fastify only asks whether it is there, before the first call.
  checked.schemaEnv = true
  return checked as unknown as ValidateFunction
}
