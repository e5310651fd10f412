export { httpCall, httpStream, keepAliveAgent, type HttpCallOptions, type HttpResponse, type HttpStream, type HttpStreamOptions } from './client.js'
