// The open project's categories: list, create, rename, recolour, reorder, delete.
import type { Category } from '../core/project/index.ts'
import type { ProjectService } from './project-service.ts'

export class CategoryService {
  constructor(private readonly projects: ProjectService) {}

  list(): Category[] {
    return this.projects.require().project.listCategories()
  }

  create(input: { name: string; color?: string; supercategory?: string | null }): Category {
    return this.projects.require().project.createCategory(input)
  }

  rename(categoryId: number, name: string): Category {
    return this.projects.require().project.renameCategory(categoryId, name)
  }

  recolor(categoryId: number, color: string): Category {
    return this.projects.require().project.recolorCategory(categoryId, color)
  }

  reorder(categoryIds: number[]): Category[] {
    return this.projects.require().project.reorderCategories(categoryIds)
  }

  /** Refused while annotations use it, unless `force` (which deletes them too). */
  delete(categoryId: number, force: boolean | undefined): null {
    this.projects.require().project.deleteCategory(categoryId, { force })
    return null
  }
}
