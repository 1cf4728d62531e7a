using Flotilla.Linearizability.Kv;
using Flotilla.Linearizability.Models;

namespace Flotilla.Linearizability.Tests;

public class PowerSetModelTests
{
    private static readonly PowerSetModel<KvState, KvInput, KvOutput> Model = VersionedKv.Model;

    private static StateSet<KvState> Maybe(KvState from, KvInput put)
    {
        Assert.True(Model.Step(Model.Init(), KvInput.Put("k", from.Value!, 0), KvOutput.Ok, out var created));
        Assert.True(Model.Step(created, put, KvOutput.Maybe, out var next));
        return next;
    }

    [Fact]
    public void SetsWithTheSameStatesInAnotherOrderAreEqualAndHashAlike()
    {
        // {applied, unchanged} reached two ways: the set must not depend on the order the branches were produced in.
        var a = Maybe(new KvState("a", 1), KvInput.Put("k", "b", 1));
        var spec = new ReversedSpec();
        var reversed = new PowerSetModel<KvState, KvInput, KvOutput>(spec);
        Assert.True(reversed.Step(reversed.Init(), KvInput.Put("k", "a", 0), KvOutput.Ok, out var created));
        Assert.True(reversed.Step(created, KvInput.Put("k", "b", 1), KvOutput.Maybe, out var b));

        Assert.NotEqual(a.States, b.States);
        Assert.True(Model.StateEquals(a, b));
        Assert.Equal(Model.StateHash(a), Model.StateHash(b));
    }

    [Fact]
    public void StepIsLegalIfAnyPossibleStateAllowsItAndKeepsOnlyThoseThatDo()
    {
        var both = Maybe(new KvState("a", 1), KvInput.Put("k", "b", 1));
        Assert.Equal(2, both.Count);
        Assert.True(Model.Step(both, KvInput.Get("k"), KvOutput.Read("a", 1), out var notApplied));
        Assert.Equal([new KvState("a", 1)], notApplied.States);
        Assert.False(Model.Step(both, KvInput.Get("k"), KvOutput.Read("c", 2), out _));
        Assert.Equal("one of {(\"b\", v2) | (\"a\", v1)}", Model.DescribeState(both));
    }

    /// <summary>The same spec, producing ErrMaybe's branches in the opposite order.</summary>
    private sealed class ReversedSpec : INondeterministicModel<KvState, KvInput, KvOutput>
    {
        private readonly VersionedKvSpec _inner = new();
        public KvState Init() => _inner.Init();
        public IEnumerable<KvState> Step(KvState state, KvInput input, KvOutput? output) => _inner.Step(state, input, output).Reverse();
        public string? PartitionKey(KvInput input) => _inner.PartitionKey(input);
        public bool IsReadOnly(KvInput input, KvOutput? output) => _inner.IsReadOnly(input, output);
        public IEqualityComparer<KvState> StateComparer => _inner.StateComparer;
        public string DescribeOperation(KvInput input, KvOutput? output) => _inner.DescribeOperation(input, output);
        public string DescribeState(KvState state) => _inner.DescribeState(state);
    }
}
