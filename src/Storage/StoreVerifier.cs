namespace Appliance.Storage;

/// <summary>
/// Proves a store is what the writer wrote: every block's checksums, every block carrying the SHA-256 of the one
/// before it across all segments, block numbers without gaps, segment files named and numbered in order, and a
/// chain that starts either at block 0 or right after segments whose deletion is recorded in the chain itself.
/// </summary>
/// <remarks>
/// Removing whole blocks from the very end cannot be told from never having written them; compare
/// <see cref="VerifyReport.HeadHash"/> with one noted earlier (or shipped elsewhere) to cover that.
/// </remarks>
public static class StoreVerifier
{
    /// <summary>Checks the whole store in <paramref name="directory"/>, stopping at the first bad block.</summary>
    public static VerifyReport Verify(string directory)
    {
        var numbers = SegmentFiles.List(directory);
        var warnings = new List<string>();
        var indexProblems = new List<string>();
        var deletions = new Dictionary<long, SegmentDeletion>();
        byte[]? expectedHash = null;
        long? expectedBlock = null;
        long blocks = 0, records = 0, firstBlock = 0;
        (long Segment, long Block, byte[] PreviousHash, string Path, long Offset)? anchor = null;
        var hash = new byte[BlockFrame.HashSize];

        VerifyReport Fail(string path, long offset, long? block, string problem) => new()
        {
            Problem = problem, Segment = path, Offset = offset, BlockNumber = block, Segments = numbers.Count, Blocks = blocks,
            Records = records, FirstBlockNumber = firstBlock, HeadBlockNumber = (expectedBlock ?? 0) - 1,
            HeadHash = expectedHash is null ? null : Convert.ToHexStringLower(expectedHash), DeletedSegments = deletions.Count,
            IndexProblems = indexProblems, Warnings = warnings,
        };

        for (var i = 0; i < numbers.Count; i++)
        {
            var number = numbers[i];
            var path = SegmentFiles.SegmentPath(directory, number);
            var last = i == numbers.Count - 1;
            if (i > 0 && number != numbers[i - 1] + 1)
            {
                return Fail(path, SegmentHeader.Size, expectedBlock,
                    $"segment {numbers[i - 1] + 1} is missing: blocks from {expectedBlock} were removed");
            }
            using var scanner = SegmentScanner.Open(path, StoreReader.MaxRawLength);
            if (scanner.HeaderProblem is { } headerProblem)
            {
                return Fail(path, 0, expectedBlock, headerProblem);
            }
            if (scanner.Header.SegmentNumber != number)
            {
                return Fail(path, 0, expectedBlock,
                    $"the file is named segment {number} but its header says segment {scanner.Header.SegmentNumber} (renamed or reordered)");
            }
            if (expectedBlock is { } eb && scanner.Header.FirstBlockNumber != eb)
            {
                return Fail(path, 0, eb, $"segment {number} starts at block {scanner.Header.FirstBlockNumber}, but the previous segment ended at block {eb - 1}");
            }

            expectedBlock ??= scanner.Header.FirstBlockNumber;
            var savedIndex = SegmentIndex.TryLoad(SegmentFiles.IndexPath(directory, number), number);
            var rebuilt = new SegmentIndex(number, scanner.Header.FirstBlockNumber);
            CompareIndex(savedIndex, rebuilt, path, indexProblems);
            while (true)
            {
                var offset = scanner.Offset;
                var status = scanner.ReadNext();
                if (status == FrameStatus.End)
                {
                    break;
                }
                if (status == FrameStatus.Torn && last)
                {
                    warnings.Add($"{path}: {scanner.Length - offset} bytes at offset {offset} are an unfinished block "
                        + "(a write in progress, or a crash before it was acknowledged); the writer truncates it when it next opens the store");
                    break;
                }
                if (status != FrameStatus.Block)
                {
                    return Fail(path, offset, expectedBlock, (status == FrameStatus.Torn ? "segment ends inside a block: " : "") + scanner.Problem);
                }
                var block = scanner.Block;
                if (expectedBlock is { } expected && block.BlockNumber != expected)
                {
                    return Fail(path, offset, block.BlockNumber,
                        $"block {block.BlockNumber} where block {expected} belongs: blocks were removed or reordered");
                }
                var previous = BlockFrame.PreviousHash(scanner.Frame);
                if (expectedHash is not null)
                {
                    if (!previous.SequenceEqual(expectedHash))
                    {
                        return Fail(path, offset, block.BlockNumber,
                            $"block {block.BlockNumber} does not carry the hash of block {block.BlockNumber - 1}: the block before it was altered or replaced");
                    }
                }
                else if (block.BlockNumber == 0)
                {
                    if (previous.ContainsAnyExcept((byte)0))
                    {
                        return Fail(path, offset, 0, "block 0 must start the chain (its previous hash must be zero)");
                    }
                }
                else
                {
                    anchor = (number, block.BlockNumber, previous.ToArray(), path, offset);
                    firstBlock = block.BlockNumber;
                }
                if (scanner.Decode(out var raw) is { } problem)
                {
                    return Fail(path, offset, block.BlockNumber, problem);
                }
                var position = 0;
                while (RecordLayout.TryRead(raw, ref position, out var record, out var payloadOffset, out var payloadLength))
                {
                    records++;
                    if (record.Type == StoreRecordTypes.SegmentDeleted)
                    {
                        if (SegmentDeletion.TryRead(raw.Slice(payloadOffset, payloadLength)) is not { } deletion)
                        {
                            return Fail(path, offset, block.BlockNumber, "malformed segment-deleted record");
                        }
                        deletions[deletion.SegmentNumber] = deletion;
                    }
                }
                BlockFrame.Hash(scanner.Frame, hash);
                expectedHash ??= new byte[BlockFrame.HashSize];
                hash.CopyTo(expectedHash, 0);
                expectedBlock = block.BlockNumber + 1;
                blocks++;
                rebuilt.AddBlock(offset, block, hash, raw);
                CompareIndex(savedIndex, rebuilt, path, indexProblems);
            }
            if (savedIndex is not null && savedIndex.CoveredLength > rebuilt.CoveredLength)
            {
                indexProblems.Add($"{SegmentFiles.IndexPath(directory, number)} describes {savedIndex.CoveredLength} bytes, the segment has {rebuilt.CoveredLength}");
            }
        }

        if (anchor is { } a)
        {
            var justified = deletions.TryGetValue(a.Segment - 1, out var d)
                && d.LastBlockNumber == a.Block - 1 && d.LastHash.AsSpan().SequenceEqual(a.PreviousHash);
            if (!justified)
            {
                return Fail(a.Path, a.Offset, a.Block,
                    $"the chain starts at block {a.Block} in segment {a.Segment}, but no record in the chain says that segment {a.Segment - 1} "
                    + "(ending at block " + (a.Block - 1) + ") was deleted by retention: it was removed");
            }
        }
        else if (blocks > 0)
        {
            firstBlock = 0;
        }

        return new VerifyReport
        {
            Segments = numbers.Count, Blocks = blocks, Records = records, FirstBlockNumber = firstBlock,
            HeadBlockNumber = blocks == 0 ? -1 : expectedBlock!.Value - 1,
            HeadHash = blocks == 0 ? null : Convert.ToHexStringLower(expectedHash!),
            DeletedSegments = deletions.Count, IndexProblems = indexProblems, Warnings = warnings,
        };
    }

    // A saved index is checked when the rebuilt one reaches the length it claims to cover.
    private static void CompareIndex(SegmentIndex? saved, SegmentIndex rebuilt, string path, List<string> problems)
    {
        if (saved is null || saved.CoveredLength != rebuilt.CoveredLength)
        {
            return;
        }
        if (!saved.Serialize().AsSpan().SequenceEqual(rebuilt.Serialize()))
        {
            problems.Add($"{Path.ChangeExtension(path, SegmentFiles.IndexExtension)} does not match its segment (delete it; it is rebuilt)");
        }
    }
}
