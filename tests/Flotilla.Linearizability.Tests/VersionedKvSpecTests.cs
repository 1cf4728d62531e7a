using Flotilla.Linearizability.Kv;

namespace Flotilla.Linearizability.Tests;

/// <summary>The versioned-KV semantics, one step at a time.</summary>
public class VersionedKvSpecTests
{
    private static readonly VersionedKvSpec Spec = new();
    private static readonly KvState Absent = KvState.Absent;
    private static readonly KvState X2 = new("x", 2);

    private static KvState[] Step(KvState state, KvInput input, KvOutput? output) => Spec.Step(state, input, output).ToArray();

    [Fact]
    public void GetOfAbsentKeyMustReturnErrNoKey()
    {
        Assert.Equal([Absent], Step(Absent, KvInput.Get("k"), KvOutput.NoKey));
        Assert.Empty(Step(Absent, KvInput.Get("k"), KvOutput.Read("", 0)));
        Assert.Empty(Step(X2, KvInput.Get("k"), KvOutput.NoKey));
    }

    [Fact]
    public void GetMustMatchValueAndVersionExactly()
    {
        Assert.Equal([X2], Step(X2, KvInput.Get("k"), KvOutput.Read("x", 2)));
        Assert.Empty(Step(X2, KvInput.Get("k"), KvOutput.Read("x", 1)));
        Assert.Empty(Step(X2, KvInput.Get("k"), KvOutput.Read("y", 2)));
    }

    [Fact]
    public void PutWithMatchingVersionThatReturnedOkMovesToNextVersion()
    {
        Assert.Equal([new KvState("y", 3)], Step(X2, KvInput.Put("k", "y", 2), KvOutput.Ok));
        Assert.Equal([new KvState("a", 1)], Step(Absent, KvInput.Put("k", "a", 0), KvOutput.Ok));
    }

    [Fact]
    public void PutThatReturnedOkWithMismatchingVersionIsIllegal()
    {
        Assert.Empty(Step(X2, KvInput.Put("k", "y", 1), KvOutput.Ok));
        Assert.Empty(Step(X2, KvInput.Put("k", "y", 0), KvOutput.Ok));
        Assert.Empty(Step(Absent, KvInput.Put("k", "y", 1), KvOutput.Ok));
    }

    [Fact]
    public void ErrVersionIsLegalOnlyWhenTheVersionDiffers()
    {
        Assert.Equal([X2], Step(X2, KvInput.Put("k", "y", 1), KvOutput.VersionMismatch));
        Assert.Empty(Step(X2, KvInput.Put("k", "y", 2), KvOutput.VersionMismatch));
        Assert.Empty(Step(Absent, KvInput.Put("k", "y", 0), KvOutput.VersionMismatch));
    }

    [Fact]
    public void ErrVersionIsIllegalForAnAbsentKeyWhichAnswersErrNoKey()
    {
        Assert.Empty(Step(Absent, KvInput.Put("k", "y", 1), KvOutput.VersionMismatch));
        Assert.Empty(Step(Absent, KvInput.Put("k", "y", 7), KvOutput.VersionMismatch));
    }

    [Fact]
    public void PutErrNoKeyIsLegalOnlyForAnAbsentKeyAndNonZeroVersion()
    {
        Assert.Equal([Absent], Step(Absent, KvInput.Put("k", "y", 3), KvOutput.NoKey));
        Assert.Empty(Step(Absent, KvInput.Put("k", "y", 0), KvOutput.NoKey));
        Assert.Empty(Step(X2, KvInput.Put("k", "y", 3), KvOutput.NoKey));
    }

    [Fact]
    public void ErrMaybeWithMatchingVersionAllowsAppliedAndNotApplied()
    {
        Assert.Equal([new KvState("y", 3), X2], Step(X2, KvInput.Put("k", "y", 2), KvOutput.Maybe));
    }

    [Fact]
    public void ErrMaybeWithMismatchingVersionLeavesStateUnchanged()
    {
        Assert.Equal([X2], Step(X2, KvInput.Put("k", "y", 5), KvOutput.Maybe));
    }

    [Fact]
    public void UnknownOutputBehavesLikeErrMaybeForPutsAndIsIgnoredForGets()
    {
        Assert.Equal([new KvState("y", 3), X2], Step(X2, KvInput.Put("k", "y", 2), null));
        Assert.Equal([X2], Step(X2, KvInput.Put("k", "y", 7), null));
        Assert.Equal([X2], Step(X2, KvInput.Get("k"), null));
    }
}
