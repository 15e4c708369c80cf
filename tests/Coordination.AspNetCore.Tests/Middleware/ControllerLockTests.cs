using System.Net;
using Coordination.AspNetCore.Tests.Controllers;
using Coordination.AspNetCore.Tests.Infrastructure;
using Coordination.Testing;

namespace Coordination.AspNetCore.Tests.Middleware;

public sealed class ControllerLockTests
{

    [Fact]
    public async Task ControllerAttribute_IsInherited_ActionOverrides_AndDisableOptsOut()
    {
        await using var app = await TestApp.StartAsync(controllers: [typeof(LockedController)]);
        var id = TestNamespace.NewId();

        Assert.Equal($"ctl:{id}", await app.Client.GetStringAsync($"/ctl/{id}"));
        Assert.Equal($"ctl-override:{id}", await app.Client.GetStringAsync($"/ctl/{id}/override"));
        Assert.Equal("unlocked", await app.Client.GetStringAsync($"/ctl/{id}/open"));
    }

    [Fact]
    public async Task ControllerLevelKey_IsSharedByItsActions_OverriddenAndOpenActionsAreNotBlocked()
    {
        await using var app = await TestApp.StartAsync(controllers: [typeof(LockedController)]);
        var id = TestNamespace.NewId();
        var holder = app.Client.GetAsync($"/ctl/{id}/hold?gate=h");
        await app.Gates.WaitEnteredAsync("h");

        var inherited = await app.Client.GetAsync($"/ctl/{id}");
        var overridden = await app.Client.GetAsync($"/ctl/{id}/override");
        var open = await app.Client.GetAsync($"/ctl/{id}/open");

        Assert.Equal(HttpStatusCode.Conflict, inherited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, overridden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        app.Gates.Release("h");
        Assert.Equal($"ctl:{id}", await (await holder).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SingletonAttributeOnAction_RejectsASecondRequestForTheSameKey()
    {
        await using var app = await TestApp.StartAsync(controllers: [typeof(LockedController)]);
        var id = TestNamespace.NewId();
        var holder = app.Client.GetAsync($"/ctl/{id}/once?gate=h");
        await app.Gates.WaitEnteredAsync("h");

        var second = await app.Client.GetAsync($"/ctl/{id}/once?gate=r");
        var inherited = await app.Client.GetAsync($"/ctl/{id}");

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, inherited.StatusCode);
        app.Gates.Release("h");
        Assert.Equal($"ctl-singleton:{id}", await (await holder).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AreaController_KeyUsesTheAreaRouteValue()
    {
        await using var app = await TestApp.StartAsync(controllers: [typeof(AdminReportsController)]);
        var id = TestNamespace.NewId();

        Assert.Equal($"Admin:reports:{id}", await app.Client.GetStringAsync($"/Admin/reports/{id}"));
    }
}
