// The `categories` domain: the project's label set, in display order.
import { z } from 'zod'
import { method, NO_ARGUMENT, result } from './define.ts'
import { color, id, name } from './schemas.ts'

export interface Category {
  id: number
  name: string
  /** '#rrggbb', lower case. */
  color: string
  order: number
  supercategory: string | null
}

export const categories = {
  list: method(NO_ARGUMENT, result<Category[]>()),
  /** A colour is picked from the palette when none is given. */
  create: method(
    z.strictObject({ name, color: color.optional(), supercategory: name.nullable().optional() }),
    result<Category>(),
  ),
  rename: method(z.strictObject({ categoryId: id, name }), result<Category>()),
  recolor: method(z.strictObject({ categoryId: id, color }), result<Category>()),
  /** Every category id exactly once, in the new order. */
  reorder: method(z.strictObject({ categoryIds: z.array(id).max(10_000) }), result<Category[]>()),
  /** Refused while annotations use it, unless `force` (which deletes them too). */
  delete: method(z.strictObject({ categoryId: id, force: z.boolean().optional() }), result<null>()),
}
