/**
 * Frames a client sent, already read, while the hub's onConnected runs. The socket is paused
 * meanwhile, so only what ws had read before arrives here: at most one read's worth. A client
 * that gets past the bounds is not one waiting politely.
 */
export class EarlyFrames {
  private frames: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  /** Keeps the frame for later; false, keeping nothing more, when it goes past a bound. */
  hold(frame: Buffer): boolean {
    this.bytes += frame.length;
    if (this.frames.length >= this.maxFrames || this.bytes > this.maxBytes) return false;
    this.frames.push(frame);
    return true;
  }

  /** What was held, in order; nothing is held afterwards. */
  take(): Buffer[] {
    const frames = this.frames;
    this.frames = [];
    return frames;
  }
}
