using Coordination.Hangfire.Tests.Infrastructure;
using Hangfire;
using Hangfire.States;

namespace Coordination.Hangfire.Tests;

[Collection(HangfireCollection.Name)]
public sealed class KeyBindingTests
{
    [Fact]
    public async Task Placeholders_AreBoundToJobArguments_IncludingMemberPaths()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.Bill(run, new Order(7, new Customer(42, "Ada")), null));
        await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);

        var probe = Probe.For(run);
        Assert.Equal([$"invoice:{run}:42"], probe.Keys.ToArray());
        Assert.True(probe.ContextsAgree, "JobLockContext.Current and PerformContext.GetJobLock() should be the same lock of this job");
    }

    [Fact]
    public async Task NoTemplate_KeysByJobTypeAndMethod()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");

        var id = new BackgroundJobClient(storage).Enqueue<ReportJob>(j => j.Build(run));
        await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);

        Assert.Equal(["hangfire:Coordination.Hangfire.Tests.ReportJob.Build"], Probe.For(run).Keys.ToArray());
    }

    [Fact]
    public void Enqueue_WithPlaceholderNamingNoParameter_FailsNamingJobAndPlaceholder()
    {
        var storage = HangfireFixture.NewStorage();

        var ex = Assert.ThrowsAny<Exception>(() => new BackgroundJobClient(storage).Enqueue(() => TestJobs.BadTemplate(1)));

        var inner = Assert.IsType<JobLockKeyException>(ex.InnerException);
        Assert.Equal("{customer}", inner.Placeholder);
        Assert.Contains("TestJobs.BadTemplate", inner.Message, StringComparison.Ordinal);
        Assert.Contains("names no parameter of the job method (parameters: customerId)", inner.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enqueue_WithMemberPathNamingNoMember_Fails()
    {
        var storage = HangfireFixture.NewStorage();

        var ex = Assert.ThrowsAny<Exception>(() => new BackgroundJobClient(storage).Enqueue(() => TestJobs.BadMember(new Order(1, new Customer(1, "x")))));

        var inner = Assert.IsType<JobLockKeyException>(ex.InnerException);
        Assert.Equal("{order.Nope}", inner.Placeholder);
        Assert.Contains("'Nope', which is not a public property or field of Order", inner.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enqueue_WithNullArgumentForPlaceholder_Fails()
    {
        var storage = HangfireFixture.NewStorage();

        var ex = Assert.ThrowsAny<Exception>(() => new BackgroundJobClient(storage).Enqueue(() => TestJobs.Named(null)));

        var inner = Assert.IsType<JobLockKeyException>(ex.InnerException);
        Assert.Contains("the argument 'name' is null", inner.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateJobLockKeys_ReportsRecurringJobsWhoseKeysDoNotBind()
    {
        var storage = HangfireFixture.NewStorage();
        var manager = new RecurringJobManager(storage);
        manager.AddOrUpdate("good-report", () => TestJobs.Nightly("x"), Cron.Never());
        manager.AddOrUpdate("bad-report", () => TestJobs.BadTemplate(1), Cron.Never());

        var ex = Assert.Throws<JobLockKeyException>(storage.ValidateJobLockKeys);

        Assert.Contains("recurring job 'bad-report'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("{customer}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("good-report", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enqueue_WithMalformedTemplateOrTimeout_FailsNamingTheJobAndTheValue()
    {
        var storage = HangfireFixture.NewStorage();
        var client = new BackgroundJobClient(storage);

        var template = Assert.IsType<JobLockKeyException>(Assert.ThrowsAny<Exception>(() => client.Enqueue(() => TestJobs.MalformedTemplate(1))).InnerException);
        var timeout = Assert.IsType<JobLockKeyException>(Assert.ThrowsAny<Exception>(() => client.Enqueue(() => TestJobs.MalformedTimeout())).InnerException);

        Assert.Contains("TestJobs.MalformedTemplate", template.Message, StringComparison.Ordinal);
        Assert.Contains("orders:{id", template.Message, StringComparison.Ordinal);
        Assert.Contains("TestJobs.MalformedTimeout", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("Timeout 'soon'", timeout.Message, StringComparison.Ordinal);
    }
}

public sealed class JobKeyBinderTests
{
    [Fact]
    public void Bind_FormatsArgumentsWithTheInvariantCulture()
    {
        var method = typeof(PlainJobs).GetMethod(nameof(PlainJobs.Formatted))!;
        var binder = JobKeyBinder.Create(typeof(PlainJobs), method, "amount:{amount}:{when}");
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var key = binder.Bind([1.5m, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)]);

            Assert.Equal("amount:1.5:01/02/2026 03:04:05", key);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Create_WithNonArgumentSource_FailsNamingTheSource()
    {
        var method = typeof(PlainJobs).GetMethod(nameof(PlainJobs.Plain))!;

        var ex = Assert.Throws<JobLockKeyException>(() => JobKeyBinder.Create(typeof(PlainJobs), method, "x:{query:run}"));

        Assert.Contains("uses the source 'query'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WithPlaceholderOnCancellationToken_Fails()
    {
        var method = typeof(TestJobs).GetMethod(nameof(TestJobs.WaitsForCancellation))!;

        var ex = Assert.Throws<JobLockKeyException>(() => JobKeyBinder.Create(typeof(TestJobs), method, "x:{token}"));

        Assert.Contains("Hangfire substitutes at run time", ex.Message, StringComparison.Ordinal);
    }
}
