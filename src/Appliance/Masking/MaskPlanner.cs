using System.Buffers.Binary;
using System.Text;

namespace Appliance.Masking;

/// <summary>Turns a RowDescription into a <see cref="MaskPlan"/> for one session.</summary>
public static class MaskPlanner
{
    /// <summary>
    /// Null with <paramref name="unknownRelation"/> set when a column comes from a relation the snapshot does
    /// not know (created since): the caller reloads the catalog and asks again, passing that relation in
    /// <paramref name="unseen"/> if it is still not visible (created by this session's open transaction).
    /// Null with <paramref name="malformed"/> when the message does not parse.
    /// </summary>
    public static MaskPlan? Build(ReadOnlySpan<byte> payload, MaskContext context, CatalogSnapshot snapshot, SessionHashKeys keys, IReadOnlySet<uint> unseen, out uint unknownRelation, out bool malformed)
    {
        unknownRelation = 0;
        malformed = true;
        if (payload.Length < 2) return null;
        int count = BinaryPrimitives.ReadInt16BigEndian(payload);
        if (count < 0) return null;
        var masked = new bool[count];
        var strategies = new MaskStrategy[count];
        var types = new uint[count];
        var formats = new short[count];
        var hmacs = new System.Security.Cryptography.IncrementalHash?[count];
        string? refusal = null;
        int pos = 2;
        for (int i = 0; i < count; i++)
        {
            int nameEnd = payload[pos..].IndexOf((byte)0);
            if (nameEnd < 0 || payload.Length - pos - nameEnd - 1 < 18) return null;
            var name = payload.Slice(pos, nameEnd);
            pos += nameEnd + 1;
            uint table = BinaryPrimitives.ReadUInt32BigEndian(payload[pos..]);
            short attnum = BinaryPrimitives.ReadInt16BigEndian(payload[(pos + 4)..]);
            types[i] = BinaryPrimitives.ReadUInt32BigEndian(payload[(pos + 6)..]);
            formats[i] = BinaryPrimitives.ReadInt16BigEndian(payload[(pos + 16)..]);
            pos += 18;

            MaskStrategy? strategy = null;
            if (table == 0)
            {
                strategy = context.Derived;
            }
            else if (snapshot.RelationsByOid.TryGetValue(table, out var relation))
            {
                if (relation.Masked.TryGetValue(attnum, out var configured) && context.Masks.TryGet(configured, out var s))
                {
                    strategy = s;
                }
                else if (attnum == 0 && relation.Masked.Values.Any(c => context.Masks.TryGet(c, out _)))
                {
                    // A whole-row column (select t from t) carries the masked columns inside it.
                    strategy = context.Masks.Derived;
                }
            }
            else if (snapshot.ViewsByOid.TryGetValue(table, out var view))
            {
                // A dependent view reached without naming it (the statement was refused otherwise): mask all of it.
                if (view.Masked.Any(c => context.Masks.TryGet(c, out _))) strategy = context.Masks.Derived;
            }
            else if (!snapshot.Knows(table) && !unseen.Contains(table))
            {
                unknownRelation = table;
                malformed = false;
                return null;
            }
            if (strategy is { } chosen)
            {
                masked[i] = true;
                strategies[i] = chosen;
                hmacs[i] = chosen.Kind == MaskKind.Hash ? keys.Hmac(chosen.Scope) : null;
                if (chosen.RefuseUnsupported && ValueMasker.TypeOf(types[i], formats[i]) == MaskedType.Unsupported)
                {
                    refusal ??= $"result refused: column \"{Encoding.UTF8.GetString(name)}\" is masked, and its type (oid {types[i]}) cannot carry a mask";
                }
            }
        }
        malformed = pos != payload.Length;
        return malformed ? null : new MaskPlan(masked, strategies, types, formats, hmacs, refusal);
    }

    /// <summary>The plan for a COPY's rows (text or CSV: every field is text).</summary>
    public static MaskPlan ForCopy(CopyMask copy, SessionHashKeys keys)
    {
        int n = copy.Columns.Length;
        var masked = copy.Strategies.Select(s => s is not null).ToArray();
        var strategies = copy.Strategies.Select(s => s ?? default).ToArray();
        var hmacs = copy.Strategies.Select(s => s is { Kind: MaskKind.Hash } hash ? keys.Hmac(hash.Scope) : null).ToArray();
        return new MaskPlan(masked, strategies, Enumerable.Repeat(25u, n).ToArray(), new short[n], hmacs, null);
    }
}
