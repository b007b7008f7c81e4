import Foundation

/// Distances on the Earth's surface, for filtering places by radius as Google does.
public enum GreatCircle {
    /// Mean Earth radius in metres (IUGG).
    public static let earthRadiusMetres = 6_371_008.8

    /// The haversine distance in metres between two points given in degrees.
    public static func distanceMetres(
        fromLatitude lat1: Double, longitude lon1: Double, toLatitude lat2: Double, longitude lon2: Double
    ) -> Double {
        let radians = Double.pi / 180
        let dLat = (lat2 - lat1) * radians
        let dLon = (lon2 - lon1) * radians
        let a =
            sin(dLat / 2) * sin(dLat / 2)
            + cos(lat1 * radians) * cos(lat2 * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadiusMetres * asin(min(1, sqrt(a)))
    }
}
