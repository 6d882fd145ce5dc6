import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { problemSlug, problemTypePage, problemTypes, problemTypeUri } from './problem-types.ts'

describe('problem types', () => {
  it('when a problem has a listed status, then its type is the page of that status', () => {
    for (const type of problemTypes) {
      const uri = problemTypeUri(type.status)
      expect(uri).toBe(`/problems/${problemSlug(type.title)}`)
      expect(problemTypePage(uri.replace('/problems/', ''))).toContain(`<h1>${type.title}</h1>`)
    }
  })

  it('when a status is not listed, then its type still resolves to a page; a made-up slug does not', () => {
    expect(problemTypeUri(418)).toBe('/problems/status-418')
    expect(problemTypePage('status-418')).toContain("I'm a Teapot".replace("'", '&#39;'))
    expect(problemTypePage('status-999')).toBeUndefined()
    expect(problemTypePage('<script>')).toBeUndefined()
  })

  it('when docs/problems.md lists the types, then it lists exactly these', async () => {
    const docs = await readFile(new URL('../../../../docs/problems.md', import.meta.url), 'utf8')
    const listed = [...docs.matchAll(/^\| `(\/problems\/[a-z-]+)` +\| (\d{3})/gm)].map(
      (match) => `${match[2]} ${match[1]}`,
    )
    expect(listed).toEqual(
      problemTypes.map((type) => `${type.status} ${problemTypeUri(type.status)}`),
    )
  })
})
