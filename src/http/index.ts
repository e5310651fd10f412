export { httpCall, keepAliveAgent, HttpTimeoutError, type HttpCallOptions, type HttpResponse } from './client.js'
