import { SegmentedControl } from '../../components/SegmentedControl';
import { useTimeZone, type TimeZoneMode } from './timeZone';

export function TimeZoneSwitch() {
  const { mode, setMode, zone, businessZone, localZone } = useTimeZone();
  return (
    <div className="row">
      <SegmentedControl<TimeZoneMode>
        label="Time zone"
        value={mode}
        onChange={setMode}
        options={[
          { value: 'business', label: 'Business time' },
          { value: 'local', label: 'My local time' },
        ]}
      />
      <span className="muted" data-testid="active-time-zone" title={`Business: ${businessZone}; local: ${localZone}`}>
        {zone.replace(/_/g, ' ')}
      </span>
    </div>
  );
}
