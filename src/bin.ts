import { main } from './cli.js'
import { losslessArgv } from './cli/argv.js'

// keepalived runs notify and check scripts with umask 0177, which would create
// state directories nobody can enter (0600). Files this program creates are
// meant to be shared between the daemon and short-lived commands of the same
// user and group: 0640 files, 0750 directories, whatever the caller's umask.
process.umask(0o027)

/**
 * A command is done once it has answered: whatever it started and abandoned (a
 * probe past its deadline, a config load it no longer needs) must not keep the
 * process alive past keepalived's script timeout. Exit once the output is out.
 */
function exitWhenWritten(code: number): void {
  process.exitCode = code
  let pending = 2
  const done = () => {
    if (--pending === 0) process.exit(code)
  }
  process.stdout.write('', done)
  process.stderr.write('', done)
}

main(losslessArgv()).then(exitWhenWritten, (err) => {
  process.stderr.write(`ha-agent: ${String(err)}\n`)
  exitWhenWritten(1)
})
