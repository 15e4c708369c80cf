using Xunit;

namespace Coordination.Aspects.Tests.Behaviour;

public sealed class SingletonAttributeTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("0", 0)]
    [InlineData("00:00:05", 5000)]
    [InlineData("00:00:00.250", 250)]
    [InlineData("Infinite", -1)]
    public void WaitTimeout_ReadsTheTimeoutText_NullWhenUnset(string? timeout, int? expectedMilliseconds)
    {
        var attribute = new SingletonAttribute("k") { Timeout = timeout, OnContention = LockContention.Skip };

        Assert.Equal(expectedMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null, attribute.WaitTimeout);
    }

    [Fact]
    public void WaitTimeout_WithNegativeTimeout_ThrowsNamingTheKey()
    {
        var attribute = new SingletonAttribute("jobs:{id}") { Timeout = "-00:00:01" };

        var error = Assert.Throws<FormatException>(() => attribute.WaitTimeout);

        Assert.Contains("jobs:{id}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WaitTimeout_WrittenFromCode_RoundTripsThroughTheTimeoutText()
    {
        var attribute = new DistributedLockAttribute("k") { WaitTimeout = Timeout.InfiniteTimeSpan };

        Assert.Equal("Infinite", attribute.Timeout);
        Assert.Equal(Timeout.InfiniteTimeSpan, attribute.WaitTimeout);
    }
}
