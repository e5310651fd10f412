export { haproxyCommand, infoFields, parseShowStat, parseShowInfo, parseStatStatus, type StatRow, type StatStatus } from './runtime-api.js'
export { createHaproxyWatch, type HaproxyWatch, type HaproxyWatchOptions, type HaproxyWatchState } from './watch.js'
export { openSessionSampler, sumSessions, type SessionSample, type SessionSampler } from './sessions.js'
