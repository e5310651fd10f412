import { ExitError } from '../errors/index.js'
import type { Command } from '../cli/context.js'

// Placeholder until this command lands (tracked in the issues).
export const run: Command = async () => {
  throw new ExitError(1, 'run: not built yet')
}
