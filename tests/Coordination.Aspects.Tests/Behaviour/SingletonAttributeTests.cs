using Xunit;

namespace Coordination.Aspects.Tests.Behaviour;

public sealed class SingletonAttributeTests
{
    [Theory]
    [InlineData(null, SingletonContention.Throw, -1)]
    [InlineData(null, SingletonContention.Skip, 0)]
    [InlineData("00:00:05", SingletonContention.Throw, 5000)]
    [InlineData("00:00:00.250", SingletonContention.Skip, 250)]
    [InlineData("Infinite", SingletonContention.Skip, -1)]
    public void GetWaitTimeout_CombinesTheOptions(string? timeout, SingletonContention onContention, int expectedMilliseconds)
    {
        var attribute = new SingletonAttribute("k") { Timeout = timeout, OnContention = onContention };

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
