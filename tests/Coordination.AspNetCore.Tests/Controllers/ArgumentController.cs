using Coordination.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.AspNetCore.Tests.Controllers;

public sealed class OrderDto
{
    public string? Id { get; set; }

    public CustomerDto? Customer { get; set; }
}

public sealed class CustomerDto
{
    public int Number { get; set; }
}

/// <summary>Keys filled from bound action arguments (body members, query-bound parameters).</summary>
[ApiController]
[Route("args")]
public sealed class ArgumentController : ControllerBase
{
    [HttpPost("orders")]
    [DistributedLock("order:{order.Id}:{order.Customer.Number}")]
    public string Create([FromBody] OrderDto order) => TestApp.KeyOf(HttpContext);

    [HttpPost("orders/hold")]
    [DistributedLock("order:{order.Id}:{order.Customer.Number}")]
    public async Task<string> Hold([FromBody] OrderDto order, [FromQuery] string gate, [FromServices] Gates gates, CancellationToken cancellationToken)
    {
        try
        {
            await gates.HoldAsync(gate, cancellationToken);
            return TestApp.KeyOf(HttpContext);
        }
        catch (OperationCanceledException)
        {
            return "cancelled";
        }
    }

    [HttpGet("tenants")]
    [DistributedLock("tenant:{tenant}")]
    public string ByQuery([FromQuery] string tenant) => TestApp.KeyOf(HttpContext);
}

/// <summary>Invalid on purpose: the member path does not exist. Only mapped by the startup-check test.</summary>
[ApiController]
[Route("bad-member")]
public sealed class BadMemberPathController : ControllerBase
{
    [HttpPost]
    [DistributedLock("order:{order.Nope}")]
    public string Post([FromBody] OrderDto order) => order.Id ?? "";
}
