export { httpCall, keepAliveAgent, type HttpCallOptions, type HttpResponse } from './client.js'
