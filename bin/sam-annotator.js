#!/usr/bin/env node
// Entry point of `npx sam-annotator`: runs the TypeScript CLI through tsx, so it works right
// after `npm install` with no build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src-main/cli.ts')
process.exitCode = await main(process.argv.slice(2))
