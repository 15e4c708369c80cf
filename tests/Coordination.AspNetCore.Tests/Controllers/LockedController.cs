using Coordination.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.AspNetCore.Tests.Controllers;

/// <summary>Controller-level lock, inherited by actions, overridden by two (one a [Singleton]) and disabled on another.</summary>
[ApiController]
[Route("ctl/{id}")]
[DistributedLock("ctl:{id}")]
public sealed class LockedController : ControllerBase
{
    [HttpGet]
    public string Inherited(string id) => TestApp.KeyOf(HttpContext);

    [HttpGet("hold")]
    public async Task<string> Hold(string id, [FromQuery] string gate, [FromServices] Gates gates, CancellationToken cancellationToken)
    {
        await gates.HoldAsync(gate, cancellationToken);
        return TestApp.KeyOf(HttpContext);
    }

    [HttpGet("override")]
    [DistributedLock("ctl-override:{id}")]
    [DistributedLockResponse(ContentionStatusCode = 423)]
    public string Override(string id) => TestApp.KeyOf(HttpContext);

    // The core [Singleton], the same type Hangfire jobs and the compile-time aspect use, overriding the controller's lock.
    [HttpGet("once")]
    [Singleton("ctl-singleton:{id}")]
    public async Task<string> Once(string id, [FromQuery] string gate, [FromServices] Gates gates, CancellationToken cancellationToken)
    {
        await gates.HoldAsync(gate, cancellationToken);
        return TestApp.KeyOf(HttpContext);
    }

    [HttpGet("open")]
    [DisableDistributedLock]
    public string Open(string id) => TestApp.KeyOf(HttpContext);
}

/// <summary>An area controller whose key uses the <c>{area}</c> route value.</summary>
[ApiController]
[Area("Admin")]
[Route("[area]/reports/{id}")]
public sealed class AdminReportsController : ControllerBase
{
    [HttpGet]
    [DistributedLock("{area}:reports:{id}")]
    public string Get(string id) => TestApp.KeyOf(HttpContext);
}

/// <summary>Invalid on purpose: the template names a value the route does not have. Only mapped by the startup-check test.</summary>
[ApiController]
[Route("bad/{id}")]
public sealed class BadTemplateController : ControllerBase
{
    [HttpGet]
    [DistributedLock("bad:{tenant}")]
    public string Get(string id) => id;
}

/// <summary>Invalid on purpose: the timeout is not a TimeSpan. Only mapped by the startup-check test.</summary>
[ApiController]
[Route("bad-timeout")]
public sealed class BadTimeoutController : ControllerBase
{
    [HttpGet]
    [DistributedLock("bad-timeout", Timeout = "five seconds")]
    public string Get() => "never";
}
