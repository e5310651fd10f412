export { openOutbox, queueDir, deadDir, wants, writeDurably, type Outbox, type OutboxTarget, type NewEvent } from './outbox.js'
export { oldestEvents, type QueueWindow } from './reader.js'
export { newEventId, eventIdTime, wallMicros } from './ids.js'
