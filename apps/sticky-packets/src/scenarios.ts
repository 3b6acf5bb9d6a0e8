/** The sticky-packet scenarios, each a way TCP reads stop lining up with application messages. */

export type ScenarioId = 'nagle-on' | 'nagle-off' | 'large' | 'slow-receiver';

export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** What the scenario demonstrates, for the report. */
  readonly shows: string;
  readonly messages: number;
  /** Wire bytes of every request. */
  readonly messageBytes: number;
  /** `socket.setNoDelay()`: false leaves Nagle's algorithm on. */
  readonly noDelay: boolean;
  /** Writes issued per event-loop turn (each is its own `write()`); the loop yields between bursts. */
  readonly burst: number;
  /** The client reader pauses this long after every read (a slow consumer); 0 = reads as fast as it can. */
  readonly readerPauseMs: number;
}

/**
 * Message counts: quick keeps the whole experiment (5 targets × 2 protocols × 4 scenarios) well under
 * 45 s on 2 shared cores; full gives the read-size histograms enough samples to be smooth.
 */
export function scenarios(quick: boolean): Scenario[] {
  const small = quick ? 2_000 : 10_000;
  return [
    {
      id: 'nagle-on',
      title: 'Many small writes, Nagle on',
      shows:
        'Each message is its own write() of a few bytes; with Nagle on the kernel holds small segments while earlier ones are unacknowledged, so several messages share a segment and a read.',
      messages: small,
      messageBytes: 32,
      noDelay: false,
      burst: 1,
      readerPauseMs: 0,
    },
    {
      id: 'nagle-off',
      title: 'Many small writes, Nagle off (TCP_NODELAY)',
      shows:
        'The same writes with TCP_NODELAY: segments leave at once, yet the receiver still reads whatever has arrived, so reads and messages still do not line up one to one.',
      messages: small,
      messageBytes: 32,
      noDelay: true,
      burst: 1,
      readerPauseMs: 0,
    },
    {
      id: 'large',
      title: 'Messages larger than the socket buffers',
      shows:
        'A message bigger than the send and receive buffers cannot arrive in one read: it is split into many reads of at most the read buffer size.',
      messages: quick ? 4 : 16,
      messageBytes: 512 * 1024,
      noDelay: true,
      burst: 1,
      readerPauseMs: 0,
    },
    {
      id: 'slow-receiver',
      title: 'A slow receiver',
      shows:
        'A reader that pauses after every read lets messages pile up in the kernel; each read then returns many messages at once, often ending mid-message.',
      messages: quick ? 1_000 : 4_000,
      messageBytes: 256,
      noDelay: true,
      burst: 50,
      readerPauseMs: 20,
    },
  ];
}
