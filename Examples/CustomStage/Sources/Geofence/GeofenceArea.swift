import HerdKit
import Providers

/// A named circle on the Earth: the unit a geofence watches.
public struct GeofenceArea: Sendable, Hashable {
    public var name: String
    public var latitude: Double
    public var longitude: Double
    public var radiusMetres: Double

    public init(name: String, latitude: Double, longitude: Double, radiusMetres: Double) {
        self.name = name
        self.latitude = latitude
        self.longitude = longitude
        self.radiusMetres = radiusMetres
    }

    /// Reads one item of the stage's `areas` list: `{name: campus, latitude: 34.07, longitude: -118.44,
    /// radius_km: 1}`. Errors name the item, as in `pipeline[1].options.areas[0].radius_km`.
    public init(options: ConfigOptions) throws(ConfigError) {
        try options.allowOnly(["name", "latitude", "longitude", "radius_km"])
        guard let name = try options.string("name"), !name.isEmpty else {
            throw options.error("name", "missing; every area needs a name for the log")
        }
        guard let latitude = try options.double("latitude", in: -90...90) else {
            throw options.error("latitude", "missing; decimal degrees, north positive")
        }
        guard let longitude = try options.double("longitude", in: -180...180) else {
            throw options.error("longitude", "missing; decimal degrees, east positive")
        }
        guard let radius = try options.double("radius_km", in: 0.001...20_000) else {
            throw options.error("radius_km", "missing; the area's radius in kilometres")
        }
        self.init(name: name, latitude: latitude, longitude: longitude, radiusMetres: radius * 1000)
    }

    /// Whether `point` lies in the area, by great-circle distance from its centre.
    public func contains(_ point: Coordinates) -> Bool {
        GreatCircle.distanceMetres(
            fromLatitude: latitude, longitude: longitude, toLatitude: point.latitude, longitude: point.longitude)
            <= radiusMetres
    }
}
