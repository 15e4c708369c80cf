namespace Coordination;

/// <summary>What a call to a <see cref="SingletonAttribute"/> method gets when the lock stays taken past the timeout.</summary>
public enum SingletonContention
{
    /// <summary>The call throws <see cref="SingletonContentionException"/> and the method does not run.</summary>
    Throw = 0,

    /// <summary>
    /// The method does not run; the call completes with the default result (<see langword="default"/> for
    /// <see cref="Task{TResult}"/>/<see cref="ValueTask{TResult}"/>, so <c>T</c> must be a value type or nullable).
    /// Without an explicit timeout the call tries the lock once.
    /// </summary>
    Skip = 1,
}
