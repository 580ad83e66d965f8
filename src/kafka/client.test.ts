import { describe, expect, it } from 'vitest';
import { unansweredMessages } from './client';

const message = (key: string, partition: number) => ({ key, value: key, partition });

describe('unansweredMessages', () => {
  const sent = [
    { topic: 'order.confirmed', messages: [message('a', 0), message('b', 1)] },
    { topic: 'order.status-changed', messages: [message('a', 0), message('c', 2)] },
  ];

  it('finds nothing missing when every partition of the send was answered', () => {
    const answered = [
      { topicName: 'order.confirmed', partition: 0, errorCode: 0 },
      { topicName: 'order.confirmed', partition: 1, errorCode: 0 },
      { topicName: 'order.status-changed', partition: 0, errorCode: 0 },
      { topicName: 'order.status-changed', partition: 2, errorCode: 0 },
    ];
    expect(unansweredMessages(sent, answered)).toEqual([]);
  });

  it('returns the messages of each partition Kafka did not answer for, by topic', () => {
    // The partition number alone is not enough: partition 0 of one topic is not partition 0 of another.
    const answered = [
      { topicName: 'order.confirmed', partition: 0, errorCode: 0 },
      { topicName: 'order.confirmed', partition: 1, errorCode: 0 },
      { topicName: 'order.status-changed', partition: 2, errorCode: 0 },
    ];
    expect(unansweredMessages(sent, answered)).toEqual([{ topic: 'order.status-changed', messages: [message('a', 0)] }]);
  });
});
