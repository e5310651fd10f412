import { ExitError } from '../errors/index.js'
import type { Command } from '../cli/context.js'

// Placeholder until this command lands (tracked in the issues).
export const notify: Command = async () => {
  throw new ExitError(1, 'notify: not built yet')
}
