import { main } from './cli.js'

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`ha-agent: ${String(err)}\n`)
    process.exitCode = 1
  },
)
