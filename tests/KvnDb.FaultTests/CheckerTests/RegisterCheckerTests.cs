using KvnDb.FaultTests.Linearizability;

namespace KvnDb.FaultTests.CheckerTests;

public sealed class RegisterCheckerTests
{
    [Fact]
    public void Sequential_writes_and_reads_are_linearizable()
    {
        var history = new HistoryBuilder()
            .Get(1, null, 0, 1)
            .Set(1, "a", 2, 3)
            .Get(2, "a", 4, 5)
            .Set(1, "b", 6, 7)
            .Get(2, "b", 8, 9)
            .Delete(1, existed: true, 10, 11)
            .Get(2, null, 12, 13)
            .Delete(1, existed: false, 14, 15);
        Assert.Equal(Verdict.Linearizable, history.Check());
    }

    [Fact]
    public void A_read_concurrent_with_a_write_may_see_either_value()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Set(1, "b", 2, 10)
            .Get(2, "b", 3, 4)
            .Get(3, "a", 3, 5); // invoked before the "b" read returned: may be ordered first
        Assert.Equal(Verdict.Linearizable, history.Check());
    }

    [Fact]
    public void Concurrent_writes_may_land_in_either_order()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 10)
            .Set(2, "b", 0, 10)
            .Get(3, "b", 1, 2)
            .Get(3, "a", 3, 4) // "a" landed after "b"
            .Get(3, "a", 11, 12);
        Assert.Equal(Verdict.Linearizable, history.Check());
    }

    [Fact]
    public void Lost_acknowledged_write_is_a_violation()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Get(2, "a", 2, 3)
            .Get(2, null, 4, 5); // the acknowledged "a" vanished
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void Lost_acknowledged_first_write_is_a_violation()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Get(2, null, 2, 3);
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void Stale_read_is_a_violation()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Set(1, "b", 2, 3)
            .Get(2, "a", 4, 5); // "b" was acknowledged before this read began
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void A_value_cannot_come_back_after_a_newer_one_was_read()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Set(1, "b", 2, 10)   // still in flight
            .Get(2, "b", 3, 4)
            .Get(2, "a", 5, 6);  // a replica behind the first one
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void Reading_a_value_before_its_write_began_is_a_violation()
    {
        var history = new HistoryBuilder()
            .Get(2, "a", 0, 1)
            .Set(1, "a", 2, 3);
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void Reading_a_value_nobody_wrote_is_a_violation()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Get(2, "zz", 2, 3);
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void An_unknown_write_may_land_late_or_never()
    {
        var landedLate = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .SetUnknown(1, "b", 2)
            .Get(2, "a", 10, 11)
            .Get(2, "b", 20, 21); // applied long after the client gave up
        Assert.Equal(Verdict.Linearizable, landedLate.Check());

        var never = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .SetUnknown(1, "b", 2)
            .Get(2, "a", 10, 11)
            .Get(2, "a", 20, 21);
        Assert.Equal(Verdict.Linearizable, never.Check());
    }

    [Fact]
    public void An_unknown_write_cannot_be_seen_before_it_was_made()
    {
        var history = new HistoryBuilder()
            .Get(2, "b", 0, 1)
            .SetUnknown(1, "b", 2);
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void An_unknown_write_that_landed_cannot_be_undone_by_an_older_value()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .SetUnknown(1, "b", 2)
            .Get(2, "b", 10, 11)
            .Get(2, "a", 20, 21);
        Assert.Equal(Verdict.Violation, history.Check());
    }

    [Fact]
    public void An_unseen_unknown_write_still_explains_a_delete_that_found_the_key()
    {
        var history = new HistoryBuilder()
            .SetUnknown(1, "a", 0)
            .Delete(2, existed: true, 5, 6)
            .Get(2, null, 7, 8);
        Assert.Equal(Verdict.Linearizable, history.Check());
    }

    [Fact]
    public void Many_unknown_writes_nobody_saw_are_checked_quickly()
    {
        // A router with no node fails every write with Unavailable: thousands of writes of unknown
        // outcome, overlapping reads of the last acknowledged value.
        var history = new HistoryBuilder().Set(1, "a", 0, 1);
        for (var i = 0; i < 3000; i++)
        {
            history.SetUnknown(1 + i % 2, $"u{i}", 10 + i * 3);
            history.Get(3 + i % 2, "a", 11 + i * 3, 20 + i * 3);
        }
        var verdict = RegisterChecker.CheckKey("k", history.Operations, stepBudget: 200_000);
        Assert.Equal(Verdict.Linearizable, verdict.Verdict);
    }

    [Fact]
    public void Delete_results_are_checked()
    {
        var deleteOfMissing = new HistoryBuilder()
            .Delete(1, existed: true, 0, 1);
        Assert.Equal(Verdict.Violation, deleteOfMissing.Check());

        var deleteMissedAWrite = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Delete(2, existed: false, 2, 3);
        Assert.Equal(Verdict.Violation, deleteMissedAWrite.Check());
    }

    [Fact]
    public void Failed_operations_are_ignored()
    {
        var history = new HistoryBuilder()
            .Set(1, "a", 0, 1)
            .Set(1, "b", 2, 3, OpOutcome.Failed)
            .Get(2, "a", 4, 5);
        Assert.Equal(Verdict.Linearizable, history.Check());
    }

    [Fact]
    public void Keys_are_checked_independently()
    {
        var a = new HistoryBuilder("x").Set(1, "1", 0, 1).Get(2, "1", 2, 3);
        var b = new HistoryBuilder("y").Set(1, "2", 0, 1).Get(2, null, 2, 3);
        var result = RegisterChecker.Check([.. a.Operations, .. b.Operations]);
        var violation = Assert.Single(result.Violations);
        Assert.Equal("y", violation.Key);
        Assert.Contains("cannot be linearized", violation.Explanation);
    }

    [Fact]
    public void A_long_concurrent_history_is_checked_quickly()
    {
        // Four writers and four readers over one key, with overlapping intervals and unknown
        // writes: the memoised search must stay far below its step budget.
        var random = new Random(12);
        var history = new HistoryBuilder();
        var register = (string?)null;
        long time = 0;
        for (var i = 0; i < 3000; i++)
        {
            time += random.Next(1, 4);
            var process = random.Next(8);
            var invoke = time - random.Next(0, 6);
            var complete = time + random.Next(0, 6);
            if (process < 4)
            {
                var value = $"v{i}";
                if (random.Next(20) == 0)
                {
                    history.SetUnknown(process, value, invoke);
                    if (random.Next(2) == 0)
                        register = value;
                }
                else
                {
                    history.Set(process, value, invoke, complete);
                    register = value;
                }
            }
            else
            {
                history.Get(process, register, invoke, complete);
            }
        }
        var verdict = RegisterChecker.CheckKey("k", history.Operations, stepBudget: 2_000_000);
        Assert.Equal(Verdict.Linearizable, verdict.Verdict);
    }

    [Fact]
    public void Final_state_finds_lost_acknowledged_writes()
    {
        Operation Set(string key, string value, long invoke, long complete, OpOutcome outcome = OpOutcome.Ok) =>
            new(1, key, OpKind.Set, value, invoke, complete, outcome);
        var history = new[]
        {
            Set("kept", "1", 0, 1),
            Set("kept", "2", 2, 3),
            Set("lost", "1", 0, 1),
            Set("stale", "1", 0, 1),
            Set("stale", "2", 2, 3),
            Set("unknown", "1", 0, 1),
            Set("unknown", "2", 2, 3, OpOutcome.Indeterminate),
            Set("concurrent", "1", 0, 5),
            Set("concurrent", "2", 1, 4),
            Set("never-acknowledged", "1", 0, 1, OpOutcome.Indeterminate),
        };
        var finals = new FinalRead[]
        {
            new("kept", "2"),
            new("lost", null),
            new("stale", "1"),
            new("unknown", "2"),
            new("concurrent", "1"),
            new("never-acknowledged", null),
            new("unread", null, Verified: false),
        };
        var lost = FinalState.FindLost(history, finals);
        Assert.Equal(["lost", "stale"], lost.LostKeys);
        Assert.Empty(lost.UnverifiedKeys);
        Assert.Equal(5, lost.AcknowledgedKeys);
    }
}
