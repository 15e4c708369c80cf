using Xunit;

namespace Coordination.Aspects.Tests.Behaviour;

public sealed class SingletonAttributeTests
{
    [Theory]
    [InlineData(null, -1, SingletonContention.Throw, -1)]
    [InlineData(null, -1, SingletonContention.Skip, 0)]
    [InlineData("00:00:05", -1, SingletonContention.Throw, 5000)]
    [InlineData(null, 250, SingletonContention.Skip, 250)]
    public void GetWaitTimeout_CombinesTheOptions(string? timeout, int milliseconds, SingletonContention onContention, int expectedMilliseconds)
    {
        var attribute = new SingletonAttribute("k") { Timeout = timeout, TimeoutMilliseconds = milliseconds, OnContention = onContention };

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), attribute.GetWaitTimeout());
    }

    [Fact]
    public void GetWaitTimeout_WithNegativeTimeout_ThrowsNamingTheKey()
    {
        var attribute = new SingletonAttribute("jobs:{id}") { Timeout = "-00:00:01" };

        var error = Assert.Throws<FormatException>(() => attribute.GetWaitTimeout());

        Assert.Contains("jobs:{id}", error.Message, StringComparison.Ordinal);
    }
}
