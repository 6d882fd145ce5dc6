import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type BuildSerializer = NonNullable<
  NonNullable<
    NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
  >['buildSerializer']
>
type SerializerCompiler = ReturnType<BuildSerializer>
type Serializer = ReturnType<SerializerCompiler>

/**
 * sharedSerializers builds Fastify's response serializers (fast-json-stringify) once per distinct
 * schema instead of once per route, status and media type (every route documents its errors with
 * the same `Problem` schema, four or five times over: orders had 28 serializers for 6 schemas),
 * and each on its first use rather than at start: fast-json-stringify generates and compiles code
 * for each (with Ajv's validators, about a tenth of a service's start-up CPU), and some answers (a
 * route's rarer errors, the admin routes) are never sent in a process's life.
 */
export function sharedSerializers(): BuildSerializer {
  const build = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options)
    const built = new Map<string, Serializer>()
    return (route) => {
      // The schema's JSON is all that fast-json-stringify reads of it (the route's method, url
      // and status only name it in errors); the external schemas are this compiler's own.
      const key = JSON.stringify(route.schema)
      let serializer = built.get(key)
      if (!serializer) {
        let compiled: Serializer | undefined
        serializer = (data) => (compiled ??= compile(route))(data)
        built.set(key, serializer)
      }
      return serializer
    }
  }
}
