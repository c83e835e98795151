namespace EchoHost.Load.Modes;

/// <summary>What a delivered message was, compared with what came before it from the same sender.</summary>
internal enum Delivery
{
    InOrder,
    OutOfOrder,
    Duplicate,
}

/// <summary>
/// Per sender, the highest sequence seen and a 64-bit window below it: together they tell new, late and duplicated
/// messages apart without remembering every sequence.
/// </summary>
internal sealed class DeliveryWindow(int senders)
{
    private readonly long[] _highest = new long[senders];
    private readonly ulong[] _window = new ulong[senders];

    public Delivery Record(int sender, long seq)
    {
        var highest = _highest[sender];
        if (seq > highest)
        {
            var shift = seq - highest;
            _window[sender] = shift >= 64 ? 1UL : (_window[sender] << (int)shift) | 1UL;
            _highest[sender] = seq;
            return Delivery.InOrder;
        }

        var back = highest - seq;
        if (back < 64 && (_window[sender] & (1UL << (int)back)) != 0)
        {
            return Delivery.Duplicate;
        }

        if (back < 64)
        {
            _window[sender] |= 1UL << (int)back;
        }

        return Delivery.OutOfOrder;
    }
}
