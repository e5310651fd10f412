export { httpCall, HttpTimeoutError, type HttpResponse } from './client.js'
