export { haproxyCommand, parseShowStat, parseShowInfo, type StatRow } from './runtime-api.js'
export { createHaproxyWatch, type HaproxyWatch, type HaproxyWatchOptions, type HaproxyWatchState } from './watch.js'
export { openSessionSampler, sumSessions, type SessionSample, type SessionSampler } from './sessions.js'
