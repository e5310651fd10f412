import { main } from './cli.js'

// keepalived runs notify and check scripts with umask 0177, which would create
// state directories nobody can enter (0600). Files this program creates are
// meant to be shared between the daemon and short-lived commands of the same
// user and group: 0640 files, 0750 directories, whatever the caller's umask.
process.umask(0o027)

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`ha-agent: ${String(err)}\n`)
    process.exitCode = 1
  },
)
