export { openOutbox, queueDir, deadDir, wants, writeDurably, type Outbox, type OutboxTarget, type NewEvent } from './outbox.js'
export { newEventId, eventIdTime } from './ids.js'
