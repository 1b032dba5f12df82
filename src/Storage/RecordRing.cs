using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Storage;

/// <summary>
/// A bounded many-producer, one-consumer queue of records in one byte array (after Agrona's
/// ManyToOneRingBuffer and TsavoriteLog's TryEnqueue): a producer claims space with one compare-and-swap on the
/// tail, copies its record in and publishes it by writing the entry's length last. No lock, no allocation.
/// Full is an answer (<c>false</c>), not a wait.
/// </summary>
/// <remarks>
/// Entry: <c>i32 length (8 + record) | i32 kind | record</c>, padded to 8 bytes. A record that would wrap is
/// preceded by a padding entry filling the rest of the array. The consumer zeroes what it consumed before moving
/// the head on, so an unpublished entry always reads as length 0.
/// </remarks>
internal sealed class RecordRing
{
    private const int EntryHeaderSize = 8;
    private const int RecordKind = 1;
    private const int PaddingKind = 2;
    private const long ClosedBit = long.MinValue; // set in the tail by Close: no claim can succeed after it

    private readonly byte[] _buffer;
    private readonly int _mask;
    private PaddedLong _tail;
    private PaddedLong _head;
    private long _readPosition; // the consumer's own cursor; published to _head in batches

    public RecordRing(int capacity)
    {
        if (capacity < 64 || !int.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), "capacity must be a power of two of at least 64");
        }
        _buffer = new byte[capacity];
        _mask = capacity - 1;
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Bytes claimed since the ring was made: the address just after the newest entry.</summary>
    public long Tail => Volatile.Read(ref _tail.Value) & ~ClosedBit;

    /// <summary>True once <see cref="Close"/> ran.</summary>
    public bool IsClosed => Volatile.Read(ref _tail.Value) < 0;

    /// <summary>The address the consumer has read up to (including entries not yet released).</summary>
    public long ReadPosition => _readPosition;

    /// <summary>Largest record (header and payload) one entry can hold.</summary>
    public int MaxRecordLength => Capacity / 2 - EntryHeaderSize;

    /// <summary>Bytes an entry for a record of <paramref name="recordLength"/> bytes takes.</summary>
    public static int EntrySize(int recordLength) => (EntryHeaderSize + recordLength + 7) & ~7;

    /// <summary>
    /// Copies one record in; false when there is no room now. <paramref name="end"/> is the ring address just
    /// after the entry: the record is acknowledged once the store's acknowledged address reaches it.
    /// </summary>
    public RingWrite TryWrite(in RecordHeader header, ReadOnlySpan<byte> payload, out long end)
    {
        var recordLength = RecordLayout.HeaderSize + payload.Length;
        var required = EntrySize(recordLength);
        while (true)
        {
            var tail = Volatile.Read(ref _tail.Value);
            if (tail < 0)
            {
                end = 0;
                return RingWrite.Closed;
            }
            var head = Volatile.Read(ref _head.Value);
            var index = (int)(tail & _mask);
            var toEnd = Capacity - index;
            var padding = required > toEnd ? toEnd : 0;
            if (required + padding > Capacity - (tail - head))
            {
                end = 0;
                return RingWrite.Full;
            }
            var newTail = tail + padding + required;
            if (Interlocked.CompareExchange(ref _tail.Value, newTail, tail) != tail)
            {
                continue;
            }
            if (padding > 0)
            {
                IntAt(index + 4) = PaddingKind;
                Volatile.Write(ref IntAt(index), padding);
                index = 0;
            }
            var record = _buffer.AsSpan(index + EntryHeaderSize, recordLength);
            RecordLayout.WriteHeader(record, header, payload.Length);
            payload.CopyTo(record[RecordLayout.HeaderSize..]);
            IntAt(index + 4) = RecordKind;
            // Publishes the entry; the exchange is also the fence that orders it before the caller's next load
            // (the store reads whether the writer sleeps right after this).
            Interlocked.Exchange(ref IntAt(index), EntryHeaderSize + recordLength);
            end = newTail;
            return RingWrite.Written;
        }
    }

    /// <summary>
    /// Refuses every later claim and returns the final tail: once the consumer has read up to it, nothing more
    /// will ever arrive. Claims that won before this still publish normally.
    /// </summary>
    public long Close()
    {
        while (true)
        {
            var tail = Volatile.Read(ref _tail.Value);
            if (tail < 0 || Interlocked.CompareExchange(ref _tail.Value, tail | ClosedBit, tail) == tail)
            {
                return tail & ~ClosedBit;
            }
        }
    }

    /// <summary>
    /// The consumer: the next published record, or false when the entry at the read position is not published yet.
    /// The span stays valid until <see cref="Release"/>.
    /// </summary>
    public bool TryRead(out ReadOnlySpan<byte> record)
    {
        while (true)
        {
            // A whole lap read and not released: what follows is our own unreleased data, not a new entry.
            if (_readPosition - _head.Value >= Capacity)
            {
                record = default;
                return false;
            }
            var index = (int)(_readPosition & _mask);
            var length = Volatile.Read(ref IntAt(index));
            if (length <= 0)
            {
                record = default;
                return false;
            }
            if (IntAt(index + 4) == PaddingKind)
            {
                _readPosition += length;
                continue;
            }
            record = _buffer.AsSpan(index + EntryHeaderSize, length - EntryHeaderSize);
            _readPosition += (length + 7) & ~7;
            return true;
        }
    }

    /// <summary>Zeroes everything read so far and gives the space back to producers.</summary>
    public void Release()
    {
        var head = _head.Value;
        if (head == _readPosition)
        {
            return;
        }
        var from = (int)(head & _mask);
        var length = (int)(_readPosition - head);
        var first = Math.Min(length, Capacity - from);
        _buffer.AsSpan(from, first).Clear();
        _buffer.AsSpan(0, length - first).Clear();
        // Full fence: the store reads whether producers wait for space right after this.
        Interlocked.Exchange(ref _head.Value, _readPosition);
    }

    /// <summary>True when a published entry is waiting at the read position.</summary>
    public bool HasPublished => _readPosition - _head.Value < Capacity && Volatile.Read(ref IntAt((int)(_readPosition & _mask))) > 0;

    /// <summary>Bytes read but not yet released.</summary>
    public long Unreleased => _readPosition - _head.Value;

    private ref int IntAt(int index) => ref Unsafe.As<byte, int>(ref _buffer[index]);

    // The tail is hammered by producers, the head by the consumer: keep them on separate cache lines.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedLong
    {
        [FieldOffset(64)]
        public long Value;
    }
}
