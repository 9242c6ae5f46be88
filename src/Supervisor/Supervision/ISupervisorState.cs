namespace PyPE.Supervisor.Supervision;

/// <summary>Read access to the current <see cref="SupervisorSnapshot"/> for routing, status and metrics.</summary>
public interface ISupervisorState
{
    SupervisorSnapshot Current { get; }
}
