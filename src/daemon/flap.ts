/**
 * More than `max` changes within `windowMs` means flapping: hold the current
 * value until the window has been calm. Counted on what the daemon controls
 * (its track_file value), which is what makes keepalived transition.
 */
export class FlapDamper {
  private changes: number[] = []
  private holding = false

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record that the value wants to change; returns true if the change must be held back. */
  shouldHold(): { hold: boolean; started: boolean; reason: string } {
    const t = this.now()
    this.changes = this.changes.filter((c) => t - c < this.windowMs)
    if (this.changes.length >= this.max) {
      const started = !this.holding
      this.holding = true
      return { hold: true, started, reason: `${this.changes.length} changes within ${Math.round(this.windowMs / 1000)} s (flap_max ${this.max}); holding until calm` }
    }
    this.holding = false
    this.changes.push(t)
    return { hold: false, started: false, reason: '' }
  }
}
