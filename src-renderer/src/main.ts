// Renderer entry: the theme's tokens and control styles, then the Svelte app mounted into
// index.html's #app element.
import { mount } from 'svelte'
import App from './App.svelte'
import './theme.css'

const target = document.getElementById('app')
if (target === null) throw new Error('index.html has no #app element to mount the app into')

export default mount(App, { target })
