// The open project's categories: list, create, rename, recolour, reorder, delete.
import type { Category } from '../core/project/index.ts'
import type { ProjectService } from './project-service.ts'

export class CategoryService {
  constructor(private readonly projects: ProjectService) {}

  list(): Category[] {
    return this.projects.require().project.listCategories()
  }

  create(input: { name: string; color?: string; supercategory?: string | null }): Promise<Category> {
    return this.projects.require().project.createCategory(input)
  }

  rename(categoryId: number, name: string): Promise<Category> {
    return this.projects.require().project.renameCategory(categoryId, name)
  }

  recolor(categoryId: number, color: string): Promise<Category> {
    return this.projects.require().project.recolorCategory(categoryId, color)
  }

  reorder(categoryIds: number[]): Promise<Category[]> {
    return this.projects.require().project.reorderCategories(categoryIds)
  }

  /** Refused while annotations use it, unless `force` (which deletes them too). */
  async delete(categoryId: number, force: boolean | undefined): Promise<null> {
    await this.projects.require().project.deleteCategory(categoryId, { force })
    return null
  }
}
