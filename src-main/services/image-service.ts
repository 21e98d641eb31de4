// The open project's images: the paged list, one image, the URLs its pixels are served under,
// the status the annotator sets, and (for the image protocol) whether an image may be served.
import type { ProjectImage } from '../core/project/index.ts'
import type { ImagePage, ImageStatus, ImageUrls } from '../../src-preload/contract/images.ts'
import { imageUrl, previewSize } from '../../src-preload/contract/images.ts'
import type { ProjectService } from './project-service.ts'

/**
 * An image row the protocol is asked for: its file, its oriented size and byte size as the header
 * read found them, and that read's error. The protocol serves it only when the header was read
 * as an image (no error, a size), and only while the file still looks like that image.
 */
export interface ServableImage {
  id: number
  file: string
  width: number | null
  height: number | null
  /** Bytes of the file when its header was read. */
  size: number
  error: string | null
}

export class ImageService {
  constructor(private readonly projects: ProjectService) {}

  /** A page of the list; only the first page (no `after`) counts, so paging stays linear in all. */
  list(input: { after?: number; limit: number; status?: ImageStatus; name?: string }): ImagePage {
    const { project } = this.projects.require()
    const filter = { status: input.status, name: input.name }
    const images = project.listImages({ ...filter, after: input.after, limit: input.limit })
    const first = input.after === undefined
    return {
      images,
      next: images.length < input.limit ? null : images[images.length - 1].id,
      total: first ? project.countImages(filter) : null,
      statuses: first ? project.statusCounts() : null,
    }
  }

  get(imageId: number): ProjectImage {
    return this.projects.require().project.getImage(imageId)
  }

  async urls(imageId: number): Promise<ImageUrls> {
    const opened = this.projects.require()
    // The protocol serves only images whose header was read; one the background read has not
    // reached yet is read now, so the first image of a large new folder shows at once.
    const image = await opened.project.readHeaderNow(imageId)
    const preview = image.width !== null && image.height !== null ? previewSize(image.width, image.height) : null
    // A rescan that finds the file changed updates its size and header: a new URL, new pixels.
    const version = [opened.token, image.size, image.width ?? 0, image.height ?? 0]
      .map((part) => (typeof part === 'number' ? part.toString(36) : part))
      .join('.')
    return {
      preview: imageUrl('preview', image.id, version),
      full: imageUrl('image', image.id, version),
      width: image.width,
      height: image.height,
      previewWidth: preview?.width ?? null,
      previewHeight: preview?.height ?? null,
      downscaled: preview?.downscaled ?? false,
    }
  }

  async setStatus(imageId: number, status: ImageStatus): Promise<ProjectImage> {
    const { project } = this.projects.require()
    await project.setImageStatus(imageId, status)
    return project.getImage(imageId)
  }

  /**
   * For the image protocol: the image of the open project with this id, or null. A URL versioned
   * by an earlier open names an image of another project (or of this one before it was closed):
   * null too. A row whose header the background read has not reached yet is read now (the
   * protocol serves only images whose header was read). Never rejects.
   */
  async servableImage(imageId: number, version: string | null = null): Promise<ServableImage | null> {
    const opened = this.projects.opened
    if (opened === null) return null
    if (version !== null && !version.startsWith(`${opened.token}.`)) return null
    const project = opened.project
    let row: ProjectImage
    try {
      row = await project.readHeaderNow(imageId)
    } catch {
      return null
    }
    // Closed or replaced while the header was read: the answer belongs to no open project.
    if (this.projects.opened !== opened || row.missing) return null
    return {
      id: row.id,
      file: project.absolutePath(row),
      width: row.width,
      height: row.height,
      size: row.size,
      error: row.error,
    }
  }
}
