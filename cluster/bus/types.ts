// The bus: subjects carry messages between the gateway and the shard hosts.
// One interface, two transports: in-process (here) and NATS JetStream (the cluster issue).

export interface Subscription {
  unsubscribe(): void;
}

export interface Bus<T> {
  /** Resolves once the transport has accepted the message (in-process: handed to the subscriber). */
  publish(subject: string, message: T): Promise<void>;
  /** `subject` may end in `.>` to take every subject under a prefix, as in NATS. */
  subscribe(subject: string, handler: (message: T, subject: string) => void): Subscription;
  close(): Promise<void>;
}
