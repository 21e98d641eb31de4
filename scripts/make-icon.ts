// Generates resources/icon.png, the 512x512 app icon electron-builder turns into each
// platform's format (.icns, .ico, Linux PNG sizes). The PNG is committed; re-run this
// script after changing the drawing: `npx tsx scripts/make-icon.ts`.
// The drawing: an object outline (an accepted polygon) with two positive clicks and one
// negative click, the app's core gesture.
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import sharp from 'sharp'

const SIZE = 512
const OUTPUT = resolve(import.meta.dirname, '..', 'resources', 'icon.png')

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 512 512">
  <rect x="16" y="16" width="480" height="480" rx="96" fill="#1e1f22"/>
  <path d="M128 344 L150 196 L236 120 L352 146 L396 252 L360 372 L236 398 Z"
        fill="#3b82f6" fill-opacity="0.35" stroke="#60a5fa" stroke-width="14" stroke-linejoin="round"/>
  <circle cx="232" cy="236" r="30" fill="#22c55e" stroke="#ffffff" stroke-width="8"/>
  <circle cx="318" cy="300" r="30" fill="#22c55e" stroke="#ffffff" stroke-width="8"/>
  <circle cx="420" cy="412" r="30" fill="#ef4444" stroke="#ffffff" stroke-width="8"/>
</svg>`

mkdirSync(dirname(OUTPUT), { recursive: true })
const info = await sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toFile(OUTPUT)
console.log(`wrote ${OUTPUT} (${info.width}x${info.height}, ${info.size} bytes)`)
