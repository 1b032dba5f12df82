using System.Buffers;

namespace Appliance.Storage;

/// <summary>
/// A growable list whose arrays come from <see cref="ArrayPool{T}"/> and go back on <see cref="Dispose"/>, so the
/// writer's per-segment index grows without garbage once the pool is warm (segment after segment).
/// </summary>
internal sealed class PooledList<T> : IDisposable
{
    private T[] _items = [];

    public int Count { get; private set; }

    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return _items[index];
        }
    }

    public ReadOnlySpan<T> AsSpan() => _items.AsSpan(0, Count);

    public void Add(T item)
    {
        if (Count == _items.Length)
        {
            var bigger = ArrayPool<T>.Shared.Rent(Math.Max(16, _items.Length * 2));
            _items.AsSpan(0, Count).CopyTo(bigger);
            ReturnItems();
            _items = bigger;
        }
        _items[Count++] = item;
    }

    /// <summary>Removes the item at <paramref name="index"/> (tests use it to make an index lie).</summary>
    public void RemoveAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        _items.AsSpan(index + 1, Count - index - 1).CopyTo(_items.AsSpan(index));
        Count--;
    }

    public ReadOnlySpan<T>.Enumerator GetEnumerator() => AsSpan().GetEnumerator();

    public void Dispose()
    {
        ReturnItems();
        _items = [];
        Count = 0;
    }

    private void ReturnItems()
    {
        if (_items.Length > 0)
        {
            ArrayPool<T>.Shared.Return(_items);
        }
    }
}
