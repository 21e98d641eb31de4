// The segmentation model: loaded once at start-up, described to the window, closed at quit.
import type { Engine } from '../core/segment/engine.ts'
import type { ModelInfo } from '../../src-preload/contract/model.ts'

export class ModelService {
  constructor(
    /** The engine being loaded; a rejection is reported by every call that needs the model. */
    readonly engine: Promise<Engine>,
  ) {
    // An engine that fails to load is reported by the calls that need it, not as an unhandled rejection.
    engine.catch(() => {})
  }

  async info(): Promise<ModelInfo> {
    const { info } = await this.engine
    return {
      id: info.id,
      name: info.name,
      demo: info.demo,
      provider: info.provider,
      providerNotes: info.providerAttempts.map((attempt) => attempt.reason),
      dir: info.dir,
    }
  }

  /** The model id recorded on annotations made with a prompt; null when the model failed to load. */
  async activeModelId(): Promise<string | null> {
    return (await this.engine.catch(() => null))?.info.id ?? null
  }

  async close(): Promise<void> {
    const engine = await this.engine.catch(() => null)
    await engine?.close()
  }
}
