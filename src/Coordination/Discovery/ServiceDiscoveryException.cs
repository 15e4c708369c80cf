namespace Coordination.Discovery;

/// <summary>A registration or lookup could not be done; the message names the service, the instance or the bad value.</summary>
public sealed class ServiceDiscoveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServiceDiscoveryException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ServiceDiscoveryException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public ServiceDiscoveryException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
