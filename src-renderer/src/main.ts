// Renderer entry: mounts the Svelte app into index.html's #app element.
import { mount } from 'svelte'
import App from './App.svelte'

const target = document.getElementById('app')
if (target === null) throw new Error('index.html has no #app element to mount the app into')

export default mount(App, { target })
